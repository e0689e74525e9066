/**
 * Which experiment the active notebook's kernel works on: the magics' current experiment,
 * read with a silent execute request whose user expression neither prints nor counts.
 */

/** Python: the `%%hypothesis` / `%mlexp use` experiment of this kernel, or None. */
export const KERNEL_EXPRESSION =
  "getattr(get_ipython().magics_manager.registry.get('ExperimentMagics'), 'current', None)";

/** How long the sidebar waits for the kernel's answer before it polls without it. */
export const ASK_TIMEOUT_MS = 2000;

/** Just what we use of a kernel connection (`Kernel.IKernelConnection`). */
export interface IKernelLike {
  status: string;
  requestExecute(content: {
    code: string;
    silent?: boolean;
    store_history?: boolean;
    user_expressions?: { [key: string]: string };
    allow_stdin?: boolean;
  }): { done: Promise<{ content: unknown }> };
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

/** The name from a Python repr such as `'digits'`; null for `None` or anything else. */
export function parseRepr(text: string | undefined): string | null {
  const m = /^'([^'\\]*)'$/.exec(text ?? '') ?? /^"([^"\\]*)"$/.exec(text ?? '');
  return m ? m[1] : null;
}

/**
 * The kernel's current experiment; null when it has none, undefined when it cannot tell
 * (no kernel, a busy one we must not queue behind, not Python, or the extension not loaded).
 */
export async function kernelExperiment(
  kernel: IKernelLike | null,
  timeoutMs = ASK_TIMEOUT_MS
): Promise<string | null | undefined> {
  if (!kernel || kernel.status !== 'idle') {
    return undefined;
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const request = kernel.requestExecute({
      code: '',
      silent: true,
      store_history: false,
      allow_stdin: false,
      user_expressions: { mlexp: KERNEL_EXPRESSION }
    }).done;
    // A kernel that never answers must not hold up the sidebar's poll.
    const timeout = new Promise<null>(resolve => (timer = setTimeout(() => resolve(null), timeoutMs)));
    const reply = await Promise.race([request, timeout]);
    if (reply === null) {
      return undefined;
    }
    const content = reply.content as {
      status?: string;
      user_expressions?: { mlexp?: { status?: string; data?: { [mime: string]: string } } };
    };
    const result = content.user_expressions?.mlexp;
    if (content.status !== 'ok' || result?.status !== 'ok') {
      return undefined;
    }
    return parseRepr(result.data?.['text/plain']);
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}
