import { PageConfig } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { experimentPath, NoServerError, requestAPI, RequestError, ServerExtensionMissingError } from '../src/handler';
import { MlexpModel } from '../src/model';

const makeRequest = ServerConnection.makeRequest as jest.Mock;

function reply(status: number, body: string, statusText = '') {
  return { ok: status >= 200 && status < 300, status, statusText, text: () => Promise.resolve(body) };
}

beforeEach(() => makeRequest.mockReset());

describe('requestAPI', () => {
  it('calls the API under the base URL (a JupyterHub prefix) and returns JSON', async () => {
    makeRequest.mockResolvedValue(reply(200, '{"experiments": []}'));
    await expect(requestAPI('experiments')).resolves.toEqual({ experiments: [] });
    expect(makeRequest.mock.calls[0][0]).toBe('http://localhost:8888/user/alice/mlexp/api/experiments');
  });

  it('passes method and body through', async () => {
    makeRequest.mockResolvedValue(reply(201, '{}'));
    await requestAPI('experiments/x/journal', { method: 'POST', body: '{"text":"a"}' });
    expect(makeRequest.mock.calls[0][1]).toEqual({ method: 'POST', body: '{"text":"a"}' });
  });

  it('turns a bare 404 into "server extension missing"', async () => {
    makeRequest.mockResolvedValue(reply(404, '<html>Not Found</html>', 'Not Found'));
    const error = (await requestAPI('experiments').catch((e: unknown) => e)) as RequestError;
    expect(error).toBeInstanceOf(ServerExtensionMissingError);
    expect(error.message).toMatch(/jupyter server extension list/);
  });

  it('keeps a JSON 404 from our handlers as an ordinary error with its message', async () => {
    makeRequest.mockResolvedValue(reply(404, '{"message": "no experiment \'x\'"}'));
    const error = (await requestAPI('experiments/x').catch((e: unknown) => e)) as RequestError;
    expect(error).toBeInstanceOf(RequestError);
    expect(error).not.toBeInstanceOf(ServerExtensionMissingError);
    expect(error.status).toBe(404);
    expect(error.message).toBe("no experiment 'x' (HTTP 404)");
  });

  it('reports other failures with status and message', async () => {
    makeRequest.mockResolvedValue(reply(422, '{"message": "a reason is required"}'));
    await expect(requestAPI('x')).rejects.toMatchObject({ status: 422, message: 'a reason is required (HTTP 422)' });
    makeRequest.mockResolvedValue(reply(500, '', 'Internal Server Error'));
    await expect(requestAPI('x')).rejects.toMatchObject({ status: 500, message: 'Internal Server Error (HTTP 500)' });
  });

  it('reports a network failure', async () => {
    makeRequest.mockRejectedValue(new TypeError('Failed to fetch'));
    await expect(requestAPI('x')).rejects.toMatchObject({
      status: 0,
      message: expect.stringMatching(/Failed to fetch/)
    });
  });

  it('refuses a success that is not JSON', async () => {
    makeRequest.mockResolvedValue(reply(200, '<html>login</html>'));
    await expect(requestAPI('x')).rejects.toBeInstanceOf(RequestError);
  });
});

describe('experimentPath', () => {
  it('encodes every segment so a name cannot add a path segment', () => {
    expect(experimentPath('demo', 'runs', 'q-1', 'ignore')).toBe('experiments/demo/runs/q-1/ignore');
    expect(experimentPath('../etc')).toBe('experiments/..%2Fetc');
    expect(experimentPath('a b', 'runs', 'x/y')).toBe('experiments/a%20b/runs/x%2Fy');
  });
});

describe('under JupyterLite', () => {
  const options = (PageConfig as unknown as { options: { [key: string]: string } }).options;
  afterEach(() => delete options.appName);

  it('asks nothing and says there is no server, with what to do', async () => {
    options.appName = 'JupyterLite';
    const failure = requestAPI('experiments');
    await expect(failure).rejects.toBeInstanceOf(NoServerError);
    await expect(failure).rejects.toThrow(/JupyterLite.*jupyter lab/);
    expect(makeRequest).not.toHaveBeenCalled();
    const model = new MlexpModel({ autoPoll: false });
    await expect(model.refresh()).rejects.toBeInstanceOf(NoServerError);
    expect(model.state.status).toBe('no-server');
    model.dispose();
  });
});
