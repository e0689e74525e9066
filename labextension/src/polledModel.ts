import { IDisposable } from '@lumino/disposable';
import { Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import { requestAPI } from './handler';
import { IStamped } from './tokens';

/**
 * Poll a stamped view: send the stamp of the answer held (`?since=`); while the server says it is
 * unchanged, the very object held comes back (a few bytes travelled, and `===` tells the caller).
 */
export async function requestPolled<T extends IStamped>(endPoint: string, held: T | null): Promise<T> {
  const since = held?.stamp;
  const url = since ? `${endPoint}${endPoint.includes('?') ? '&' : '?'}since=${encodeURIComponent(since)}` : endPoint;
  const answer = await requestAPI<T>(url);
  return answer.unchanged && held ? held : answer;
}

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
  get visible(): boolean {
    return this._visible;
  }

  set visible(value: boolean) {
    const wasHidden = !this._visible;
    this._visible = value;
    if (value && wasHidden && this._poll) {
      void this._poll.refresh();
    }
  }

  /** Poll every `ms` milliseconds from now on (the user's setting), keeping the back-off after failures. */
  setInterval(ms: number): void {
    if (this._poll && this._poll.frequency.interval !== ms) {
      this._poll.frequency = { ...this._poll.frequency, interval: ms };
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

  /** Apply a change and tell the views; a change that changes nothing (every value the same) is not emitted. */
  protected _update(change: Partial<S>): void {
    if (this._isDisposed) {
      return;
    }
    const old = this._state as { [key: string]: unknown };
    const keys = Object.keys(change) as (keyof S & string)[];
    if (keys.every(k => Object.is(old[k], change[k]))) {
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
