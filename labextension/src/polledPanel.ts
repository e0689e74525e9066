import { ReactWidget } from '@jupyterlab/apputils';
import { Message } from '@lumino/messaging';

/** What a panel's model needs for the panel to own it: it polls only while seen, and is disposed with it. */
export interface IPolledViewModel {
  visible: boolean;
  dispose(): void;
}

/**
 * A panel over one polled model (the sidebar, the runs table, a class view): the model knows when the
 * panel is seen (a hidden panel's model stands by instead of polling) and is disposed with it.
 */
export abstract class PolledPanel<M extends IPolledViewModel> extends ReactWidget {
  constructor(readonly model: M) {
    super();
  }

  dispose(): void {
    this.model.dispose();
    super.dispose();
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    this.model.visible = this.isVisible;
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this.model.visible = true;
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this.model.visible = false;
  }
}
