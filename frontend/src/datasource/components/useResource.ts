// Loads a resource once per key for an editor, with its error kept for display.
import { useEffect, useState } from 'react';

import { errorMessage } from '../resources';

/** The state of one resource read. */
export interface ResourceState<T> {
  value?: T;
  error?: string;
  loading: boolean;
}

interface Loaded<T> {
  key: string;
  value?: T;
  error?: string;
}

/** Runs `load` when `key` changes; an answer for an older key is never shown. */
export function useResource<T>(load: () => Promise<T>, key: string): ResourceState<T> {
  const [loaded, setLoaded] = useState<Loaded<T> | undefined>(undefined);
  useEffect(() => {
    let current = true;
    load().then(
      (value) => current && setLoaded({ key, value }),
      (e) => current && setLoaded({ key, error: errorMessage(e) })
    );
    return () => {
      current = false;
    };
    // `load` is a new closure each render; `key` says when it reads something else.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  if (!loaded || loaded.key !== key) {
    return { loading: true, value: loaded?.value };
  }
  return { loading: false, value: loaded.value, error: loaded.error };
}
