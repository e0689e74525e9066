/** Just enough of @jupyterlab/coreutils and @jupyterlab/services for the request helper. */

export const URLExt = {
  join(...parts: string[]): string {
    return parts
      .filter(p => p.length > 0)
      .map((p, i) => (i === 0 ? p.replace(/\/+$/, '') : p.replace(/^\/+|\/+$/g, '')))
      .join('/');
  }
};

export const ServerConnection = {
  makeSettings: jest.fn(() => ({ baseUrl: 'http://localhost:8888/user/alice/' })),
  makeRequest: jest.fn()
};

/** PageConfig.getOption reads the page's options; tests set `PageConfig.options` (e.g. appName). */
export const PageConfig = {
  options: {} as { [key: string]: string },
  getOption(name: string): string {
    return PageConfig.options[name] ?? '';
  }
};
