/** The extension's settings (schema/sidebar.json), read defensively: a bad value falls back to its default. */

export interface IMlexpSettings {
  /** Seconds between polls while a view is shown. */
  pollInterval: number;
  /** The experiment shown when nothing else is; '' for the first one. */
  defaultExperiment: string;
  /** Runs table columns left out, by name. */
  hiddenColumns: string[];
}

export const DEFAULT_SETTINGS: IMlexpSettings = { pollInterval: 4, defaultExperiment: '', hiddenColumns: [] };

/** The settings from the registry's composite (user values over the schema's defaults). */
export function readSettings(composite: { [key: string]: unknown }): IMlexpSettings {
  const interval = composite.pollInterval;
  const name = composite.defaultExperiment;
  const hidden = composite.hiddenColumns;
  return {
    pollInterval:
      typeof interval === 'number' && Number.isFinite(interval) && interval >= 1
        ? Math.min(interval, 600)
        : DEFAULT_SETTINGS.pollInterval,
    defaultExperiment: typeof name === 'string' ? name.trim() : '',
    hiddenColumns: Array.isArray(hidden) ? hidden.filter((h): h is string => typeof h === 'string') : []
  };
}
