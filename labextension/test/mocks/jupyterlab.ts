/** Just enough of @jupyterlab/coreutils and @jupyterlab/services for the request helper. */

export namespace URLExt {
  export function join(...parts: string[]): string {
    return parts
      .filter(p => p.length > 0)
      .map((p, i) => (i === 0 ? p.replace(/\/+$/, '') : p.replace(/^\/+|\/+$/g, '')))
      .join('/');
  }
}

export namespace ServerConnection {
  export interface ISettings {
    baseUrl: string;
  }
  export const makeSettings = jest.fn((): ISettings => ({ baseUrl: 'http://localhost:8888/user/alice/' }));
  export const makeRequest = jest.fn();
}
