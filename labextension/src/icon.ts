import { LabIcon } from '@jupyterlab/ui-components';

// A flask; `jp-icon3` lets the theme colour it in light and dark mode.
const svgstr = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <path class="jp-icon3" fill="#616161" d="M9 2h6v2h-1v5.2l5.6 9.4A2 2 0 0 1 17.9 22H6.1a2 2 0 0 1-1.7-3.4L10 9.2V4H9V2zm3 8.3L8.6 16h6.8L12 10.3z"/>
</svg>`;

export const flaskIcon = new LabIcon({ name: 'jupyter-mlexp:flask', svgstr });
