import { COMM_TARGET, experimentIn, hasSession, ICommLike, IKernelLike, KernelFollower, kernelOf } from '../src/follow';
import * as handler from '../src/handler';
import { MlexpModel } from '../src/model';
import { detail, experiments, ignored, journal, runs } from './fixtures';

jest.mock('../src/handler', () => ({ ...jest.requireActual('../src/handler'), requestAPI: jest.fn() }));
const requestAPI = handler.requestAPI as jest.Mock;

type Data = { content: { data: unknown } };

/**
 * A kernel connection as far as comms go, with the kernel's side of them: `current` undefined means
 * the extension is not loaded (an open comm to the target is closed at once).
 */
class FakeKernel implements IKernelLike {
  constructor(
    public id: string,
    public current: string | null | undefined
  ) {}
  target: ((comm: ICommLike, msg: Data) => void | PromiseLike<void>) | null = null;
  comms: ICommLike[] = []; // the comms open between this kernel and the frontend
  asked = 0;
  registerCommTarget(name: string, callback: (comm: ICommLike, msg: Data) => void | PromiseLike<void>): void {
    expect(name).toBe(COMM_TARGET);
    this.target = callback;
  }
  createComm(name: string): ICommLike {
    expect(name).toBe(COMM_TARGET);
    const comm: ICommLike = {
      onMsg: () => undefined,
      onClose: () => undefined,
      open: () => {
        this.asked++;
        if (this.current === undefined) {
          return comm.onClose({ content: { data: {} } });
        }
        this.comms.push(comm);
        return comm.onMsg({ content: { data: { experiment: this.current } } });
      }
    };
    return comm;
  }
  /** The kernel's side of `%%hypothesis NAME`: send on the open comms, or open one to the frontend. */
  announce(name: string): void {
    this.current = name;
    if (this.comms.length > 0) {
      this.comms.forEach(c => void c.onMsg({ content: { data: { experiment: name } } }));
      return;
    }
    const comm: ICommLike = { open: () => undefined, onMsg: () => undefined, onClose: () => undefined };
    this.comms.push(comm);
    void this.target?.(comm, { content: { data: { experiment: name } } });
  }
}

describe('KernelFollower', () => {
  it('asks a kernel once, by a comm, and hears what it says after', () => {
    const changed: string[] = [];
    const follower = new KernelFollower(k => changed.push(k.id));
    const k = new FakeKernel('k1', 'digits');
    expect(follower.experimentOf(k)).toBe('digits');
    expect(follower.experimentOf(k)).toBe('digits');
    expect(k.asked).toBe(1); // asked once, not at every poll
    k.announce('other');
    expect(follower.experimentOf(k)).toBe('other');
    expect(changed).toEqual(['k1', 'k1']);
  });

  it('cannot tell until a kernel without the extension loads it and registers a hypothesis', () => {
    const follower = new KernelFollower();
    const k = new FakeKernel('k2', undefined);
    expect(follower.experimentOf(k)).toBeUndefined(); // the target is unknown: the kernel closed the comm
    expect(k.target).not.toBeNull(); // ... but the frontend listens for the kernel's own comm
    k.announce('wider-layers');
    expect(follower.experimentOf(k)).toBe('wider-layers');
    expect(follower.experimentOf(null)).toBeUndefined();
  });

  it('keeps kernels apart, reads only its own messages, and survives a kernel that throws', () => {
    const follower = new KernelFollower();
    const a = new FakeKernel('a', 'one');
    const b = new FakeKernel('b', null);
    expect(follower.experimentOf(a)).toBe('one');
    expect(follower.experimentOf(b)).toBeNull();
    expect(experimentIn({ other: 1 })).toBeUndefined();
    expect(experimentIn({ experiment: 3 })).toBeUndefined();
    expect(experimentIn(null)).toBeUndefined();
    const broken: IKernelLike = {
      id: 'x',
      registerCommTarget: () => undefined,
      createComm: () => {
        throw new Error('kernel disposed');
      }
    };
    expect(follower.experimentOf(broken)).toBeUndefined();
  });

  it('finds the kernel of a widget with a session', () => {
    const k = new FakeKernel('k', null);
    expect(kernelOf({ sessionContext: { session: { kernel: k } } })).toBe(k);
    expect(kernelOf({})).toBeNull();
    expect(hasSession({ sessionContext: { session: null } })).toBe(true);
    expect(hasSession({})).toBe(false);
    expect(kernelOf(null)).toBeNull();
  });
});

describe('MlexpModel following the kernel', () => {
  beforeEach(() => {
    const answers: { [path: string]: unknown } = {
      experiments,
      'experiments/demo': detail,
      'experiments/demo/runs': runs,
      'experiments/demo/ignored': ignored,
      'experiments/other': { ...detail, name: 'other' },
      'experiments/other/runs': { primary_metric: 'acc', runs: [] },
      'experiments/other/ignored': { ignored: [], warnings: [] }
    };
    requestAPI.mockImplementation((endPoint: string) => {
      const path = endPoint.split('?')[0];
      return Promise.resolve(path.endsWith('/journal') ? journal : answers[path]);
    });
  });

  it("switches when the kernel's experiment changes, and keeps the user's pick until then", async () => {
    let current: string | null | undefined = 'other';
    const model = new MlexpModel({ autoPoll: false, askKernel: () => Promise.resolve(current) });
    await model.refresh();
    expect(model.state.selected).toBe('other');
    expect(model.state.kernelExperiment).toBe('other');
    await model.select('demo');
    await model.refresh();
    expect(model.state.selected).toBe('demo'); // the pick holds: the kernel did not move
    current = 'demo';
    await model.refresh();
    current = 'other';
    await model.refresh();
    expect(model.state.selected).toBe('other');
    current = undefined; // cannot tell (busy kernel): nothing changes
    await model.refresh();
    expect(model.state.selected).toBe('other');
    expect(model.state.kernelExperiment).toBe('other');
    current = 'not-an-experiment';
    await model.refresh();
    expect(model.state.selected).toBe('other');
    model.dispose();
  });
});
