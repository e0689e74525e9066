import { IDisposable } from '@lumino/disposable';
import { Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

export interface IPollOptions {
  /** Milliseconds between refreshes while all is well. */
  interval?: number;
  /** Longest wait between refreshes once failures made the poll back off. */
  maxInterval?: number;
  /** Start polling on construction (tests turn it off and call `refresh`). */
  autoPoll?: boolean;
}

/**
 * What the sidebar's model and the runs table's model share: a state object views
 * subscribe to, and a poll of `refresh` that runs only while the view is on screen
 * and backs off after failures (a rejected `refresh`).
 */
export abstract class PolledModel<S> implements IDisposable {
  constructor(initial: S, name: string, defaultInterval: number, options: IPollOptions) {
    this._state = initial;
    if (options.autoPoll ?? true) {
      this._poll = new Poll({
        auto: true,
        factory: () => this.refresh(),
        frequency: { interval: options.interval ?? defaultInterval, backoff: true, max: options.maxInterval ?? 60000 },
        name,
        standby: () => !this._visible || 'when-hidden'
      });
    }
  }

  /** Read what the view shows; reject on failure so the poll backs off. */
  abstract refresh(): Promise<void>;

  get state(): S {
    return this._state;
  }

  get stateChanged(): ISignal<this, S> {
    return this._stateChanged;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** Whether the view is on screen; a hidden view does not poll, and refreshes at once when shown. */
  set visible(value: boolean) {
    const wasHidden = !this._visible;
    this._visible = value;
    if (value && wasHidden && this._poll) {
      void this._poll.refresh();
    }
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._poll?.dispose();
    Signal.clearData(this);
  }

  protected _update(change: Partial<S>): void {
    if (this._isDisposed) {
      return;
    }
    this._state = { ...this._state, ...change };
    this._stateChanged.emit(this._state);
  }

  protected _state: S;
  protected _visible = false;
  private _stateChanged = new Signal<this, S>(this);
  private _poll: Poll | null = null;
  private _isDisposed = false;
}
