/**
 * Which experiment the active notebook's kernel works on, as the kernel tells it over a comm.
 *
 * The kernel side (`jupyter_mlexp/frontdoors/magics/follow.py`) sends `{"experiment": NAME}` when
 * its current experiment changes (`%%hypothesis`, `%mlexp use`). The sidebar never runs code in the
 * user's kernel: it registers the comm target on each kernel it follows (the kernel opens a comm when
 * the experiment first becomes current) and, once per kernel, opens a comm itself, which a kernel
 * with the extension loaded answers with its current experiment (the way back after a page reload).
 */

/** The comm target, the same string as `TARGET` in `jupyter_mlexp/frontdoors/magics/follow.py`. */
export const COMM_TARGET = 'jupyter_mlexp.follow';

/** Just what we use of a comm (`Kernel.IComm`). */
export interface ICommLike {
  open(data?: unknown): unknown;
  onMsg: (msg: { content: { data: unknown } }) => void | PromiseLike<void>;
  onClose: (msg: { content: { data: unknown } }) => void | PromiseLike<void>;
}

/** Just what we use of a kernel connection (`Kernel.IKernelConnection`). */
export interface IKernelLike {
  id: string;
  registerCommTarget(
    targetName: string,
    callback: (comm: ICommLike, msg: { content: { data: unknown } }) => void | PromiseLike<void>
  ): void;
  createComm(targetName: string): ICommLike;
}

/** A widget with a session, as a notebook panel is. */
interface ISessionWidgetLike {
  sessionContext?: { session?: { kernel?: IKernelLike | null } | null };
}

/** Whether a widget runs code in a session (a notebook or console), kernel started or not yet. */
export function hasSession(widget: unknown): boolean {
  return !!(widget as ISessionWidgetLike | null)?.sessionContext;
}

/** The kernel of a widget that has one (a notebook or console), else null. */
export function kernelOf(widget: unknown): IKernelLike | null {
  return (widget as ISessionWidgetLike | null)?.sessionContext?.session?.kernel ?? null;
}

/** The experiment name in a comm message's data; null for none, undefined for a message that is not ours. */
export function experimentIn(data: unknown): string | null | undefined {
  if (!data || typeof data !== 'object' || !('experiment' in data)) {
    return undefined;
  }
  const value = data.experiment;
  return typeof value === 'string' ? value : value === null ? null : undefined;
}

/**
 * What each followed kernel last said. `experimentOf(kernel)` is that kernel's current experiment:
 * null when it has none, undefined when it has not said (no kernel, not Python, the extension not
 * loaded). `onChange` is called with the kernel whose experiment changed.
 */
export class KernelFollower {
  constructor(onChange: (kernel: IKernelLike) => void = () => undefined) {
    this._onChange = onChange;
  }

  /** The experiment of `kernel` (starts following it: registers the target, asks once). */
  experimentOf(kernel: IKernelLike | null): string | null | undefined {
    if (!kernel) {
      return undefined;
    }
    if (!this._followed.has(kernel)) {
      this._follow(kernel);
    }
    return this._said.get(kernel.id);
  }

  private _follow(kernel: IKernelLike): void {
    this._followed.add(kernel);
    try {
      kernel.registerCommTarget(COMM_TARGET, (comm, msg) => this._listen(kernel, comm, msg.content.data));
      const comm = kernel.createComm(COMM_TARGET);
      this._listen(kernel, comm, undefined);
      comm.open({});
    } catch {
      // a kernel that is gone or not ready: it will open a comm itself when its experiment changes
    }
  }

  private _listen(kernel: IKernelLike, comm: ICommLike, first: unknown): void {
    comm.onMsg = msg => this._heard(kernel, msg.content.data);
    comm.onClose = () => undefined; // closed: the kernel has no such target (yet), or restarted
    this._heard(kernel, first);
  }

  private _heard(kernel: IKernelLike, data: unknown): void {
    const experiment = experimentIn(data);
    if (experiment === undefined || this._said.get(kernel.id) === experiment) {
      return;
    }
    this._said.set(kernel.id, experiment);
    this._onChange(kernel);
  }

  private _onChange: (kernel: IKernelLike) => void;
  private _followed = new WeakSet<IKernelLike>();
  private _said = new Map<string, string | null>();
}
