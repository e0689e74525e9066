// jsdom lacks DragEvent, which @lumino/dragdrop touches when imported.
if (typeof globalThis.DragEvent === 'undefined') {
  globalThis.DragEvent = class DragEvent extends MouseEvent {};
}
// Lets React 18's act() flush updates in tests.
globalThis.IS_REACT_ACT_ENVIRONMENT = true;
// jsdom lacks ResizeObserver; tests call the callbacks kept here to resize.
if (typeof globalThis.ResizeObserver === 'undefined') {
  globalThis.resizeCallbacks = [];
  globalThis.ResizeObserver = class ResizeObserver {
    constructor(callback) {
      this.callback = callback;
      globalThis.resizeCallbacks.push(callback);
    }
    observe() {}
    disconnect() {
      globalThis.resizeCallbacks = globalThis.resizeCallbacks.filter(c => c !== this.callback);
    }
  };
}
