// @grafana/ui's icons load their SVG asynchronously (react-inlinesvg), which jsdom cannot and
// which updates state outside act(); tests draw an empty svg carrying the icon's name instead.
import React from 'react';

export default function InlineSVG({ src, className }: { src: string; className?: string }) {
  const name = src.split('/').pop()?.replace('.svg', '');
  return <svg className={className} data-icon={name} />;
}
