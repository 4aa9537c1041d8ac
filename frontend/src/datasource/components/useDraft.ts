// The text of an input while it is being typed: starts from the stored value, follows it when
// the value changes from outside, and is committed by the caller on blur or Enter.
import { useState } from 'react';

/** `[text, setText]`, reset to `format(value)` whenever `value` changes. */
export function useDraft<V>(value: V, format: (v: V) => string): [string, (t: string) => void] {
  const [seen, setSeen] = useState(value);
  const [text, setText] = useState(format(value));
  if (seen !== value) {
    setSeen(value);
    setText(format(value));
  }
  return [text, setText];
}
