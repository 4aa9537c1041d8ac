// What jsdom lacks and @grafana/ui needs: matchMedia, a canvas context, the text codecs and
// IntersectionObserver (Select uses it when its menu opens).
import '@testing-library/jest-dom';
import { TextDecoder, TextEncoder } from 'util';

Object.assign(global, { TextDecoder, TextEncoder });

Object.defineProperty(global, 'matchMedia', {
  writable: true,
  value: (query) => ({
    matches: false,
    media: query,
    onchange: null,
    addListener: jest.fn(),
    removeListener: jest.fn(),
    addEventListener: jest.fn(),
    removeEventListener: jest.fn(),
    dispatchEvent: jest.fn(),
  }),
});

class IntersectionObserverStub {
  observe() {}
  unobserve() {}
  disconnect() {}
  takeRecords() {
    return [];
  }
}
Object.assign(global, { IntersectionObserver: IntersectionObserverStub });

HTMLCanvasElement.prototype.getContext = () => null;

// i18next (inside @grafana/ui) advertises itself on every start; nothing else is silenced.
const info = console.info;
console.info = (...args) => {
  if (typeof args[0] === 'string' && args[0].includes('i18next')) {
    return;
  }
  info(...args);
};
