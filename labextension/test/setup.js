// jsdom lacks DragEvent, which @lumino/dragdrop touches when imported.
if (typeof globalThis.DragEvent === 'undefined') {
  globalThis.DragEvent = class DragEvent extends MouseEvent {};
}
// Lets React 18's act() flush updates in tests.
globalThis.IS_REACT_ACT_ENVIRONMENT = true;
