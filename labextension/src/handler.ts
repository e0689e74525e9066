import { PageConfig, URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/** The API's namespace under the server's base URL (`/user/<name>/` on a JupyterHub). */
export const API_NAMESPACE = 'mlexp/api';

/** A request the server answered with an error status and (usually) a JSON `{message}`. */
export class RequestError extends Error {
  constructor(
    message: string,
    readonly status: number
  ) {
    super(message);
    this.name = 'RequestError';
  }
}

/** The server answered 404 for the API itself: the Python side is not installed or not enabled. */
export class ServerExtensionMissingError extends RequestError {
  constructor(url: string) {
    super(
      `The jupyter-mlexp server extension did not answer at ${url}. ` +
        'Install jupyter-mlexp into the Python environment that runs this server, ' +
        'check `jupyter server extension list` shows jupyter_mlexp enabled, then restart the server.',
      404
    );
    this.name = 'ServerExtensionMissingError';
  }
}

/** JupyterLite runs in the browser with no Jupyter server: the record and the runs need one. */
export class NoServerError extends RequestError {
  constructor() {
    super(
      'This is JupyterLite, which runs in the browser without a Jupyter server; the experiments live in ' +
        'files that a server reads. Open them in JupyterLab (`pip install jupyter-mlexp`, then `jupyter lab`), ' +
        'or read them with `mlexp status` in a terminal.',
      0
    );
    this.name = 'NoServerError';
  }
}

/** Whether the page is a JupyterLite site (its page config names the app). */
export function inJupyterLite(): boolean {
  return PageConfig.getOption('appName') === 'JupyterLite';
}

/**
 * Call the REST API and return its JSON body.
 *
 * @param endPoint path below `<base_url>/mlexp/api/`, already URL-encoded per segment
 * @param init fetch options; a `body` object is sent as JSON
 */
export async function requestAPI<T>(
  endPoint: string,
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<T> {
  if (inJupyterLite()) {
    throw new NoServerError(); // nothing to ask: every request would be a 404 from the static site
  }
  const url = URLExt.join(settings.baseUrl, API_NAMESPACE, endPoint);
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    throw new RequestError(`Cannot reach the Jupyter server: ${(error as Error).message ?? error}`, 0);
  }
  const text = await response.text();
  let data: unknown = null;
  if (text.length > 0) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const message = messageOf(data);
    // Our handlers always answer JSON {message}; a bare 404 comes from a server without them.
    if (response.status === 404 && message === null) {
      throw new ServerExtensionMissingError(url);
    }
    throw new RequestError(
      `${message || response.statusText || 'request failed'} (HTTP ${response.status})`,
      response.status
    );
  }
  if (data === null) {
    throw new RequestError(`The server answered ${url} with something other than JSON`, response.status);
  }
  return data as T;
}

/** The `message` of a JSON error body, or null when the body is not one. */
function messageOf(data: unknown): string | null {
  if (data && typeof data === 'object' && 'message' in data && typeof data.message === 'string') {
    return data.message;
  }
  return null;
}

/** `experiments/<name>/<rest>` with each segment encoded, so a name can never add a path segment. */
export function experimentPath(name: string, ...rest: string[]): string {
  return ['experiments', name, ...rest].map(encodeURIComponent).join('/');
}
