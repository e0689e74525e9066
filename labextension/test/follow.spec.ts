import { hasSession, IKernelLike, kernelExperiment, kernelOf, KERNEL_EXPRESSION, parseRepr } from '../src/follow';
import * as handler from '../src/handler';
import { MlexpModel } from '../src/model';
import { detail, experiments, ignored, journal, runs } from './fixtures';

jest.mock('../src/handler', () => ({ ...jest.requireActual('../src/handler'), requestAPI: jest.fn() }));
const requestAPI = handler.requestAPI as jest.Mock;

function kernel(text: string | null, status = 'idle'): IKernelLike & { requestExecute: jest.Mock } {
  const reply = {
    content: {
      status: 'ok',
      user_expressions: { mlexp: text === null ? { status: 'error' } : { status: 'ok', data: { 'text/plain': text } } }
    }
  };
  return { status, requestExecute: jest.fn(() => ({ done: Promise.resolve(reply) })) };
}

describe('kernelExperiment', () => {
  it('asks silently, without history, and reads the repr', async () => {
    const k = kernel("'digits'");
    expect(await kernelExperiment(k)).toBe('digits');
    expect(k.requestExecute).toHaveBeenCalledWith(
      expect.objectContaining({
        code: '',
        silent: true,
        store_history: false,
        user_expressions: { mlexp: KERNEL_EXPRESSION }
      })
    );
    expect(await kernelExperiment(kernel('None'))).toBeNull();
  });

  it('cannot tell without a kernel, with a busy one (no queueing) or when the expression failed', async () => {
    expect(await kernelExperiment(null)).toBeUndefined();
    const busy = kernel("'x'", 'busy');
    expect(await kernelExperiment(busy)).toBeUndefined();
    expect(busy.requestExecute).not.toHaveBeenCalled();
    expect(await kernelExperiment(kernel(null))).toBeUndefined();
    const silent: IKernelLike = { status: 'idle', requestExecute: () => ({ done: new Promise(() => undefined) }) };
    expect(await kernelExperiment(silent, 20)).toBeUndefined(); // a kernel that never answers
  });

  it('finds the kernel of a widget with a session', () => {
    const k = kernel("'x'");
    expect(kernelOf({ sessionContext: { session: { kernel: k } } })).toBe(k);
    expect(kernelOf({})).toBeNull();
    expect(hasSession({ sessionContext: { session: null } })).toBe(true);
    expect(hasSession({})).toBe(false);
    expect(kernelOf(null)).toBeNull();
    expect(parseRepr('"a-b"')).toBe('a-b');
    expect(parseRepr("'a' + 'b'")).toBeNull();
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
