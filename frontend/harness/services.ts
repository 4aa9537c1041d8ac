// The few Grafana services the datasource module calls, for the harness page: a BackendSrv
// whose fetch goes to the Go front (which answers like Grafana's HTTP API over the real
// backend binary), a TemplateSrv with one `team` variable, and a DataSourceSrv that knows the
// one datasource. Everything else of Grafana is absent on purpose.
import { EventBusSrv, type DataSourceInstanceSettings, type ScopedVars, type TypedVariableModel } from '@grafana/data';
import {
  BackendSrv,
  BackendSrvRequest,
  DataSourceSrv,
  FetchResponse,
  TemplateSrv,
  config,
  setAppEvents,
  setBackendSrv,
  setDataSourceSrv,
  setTemplateSrv,
} from '@grafana/runtime';
import { Observable, lastValueFrom } from 'rxjs';

import type { MaturityOptions } from '../src/datasource/types';

/** Who the harness acts as (the front turns these headers into the PluginContext user). */
export const harnessUser = { login: 'alice', role: 'Editor' };

function urlWithParams(url: string, params?: BackendSrvRequest['params']): string {
  if (!params) {
    return url;
  }
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params as Record<string, unknown>)) {
    if (v === undefined || v === null) {
      continue;
    }
    for (const item of Array.isArray(v) ? v : [v]) {
      search.append(k, String(item));
    }
  }
  const q = search.toString();
  return q ? `${url}${url.includes('?') ? '&' : '?'}${q}` : url;
}

/** Grafana's fetch: an Observable of the response, an error shaped like Grafana's FetchError. */
function fetchFromFront<T>(options: BackendSrvRequest): Observable<FetchResponse<T>> {
  return new Observable((subscriber) => {
    const controller = new AbortController();
    const headers: Record<string, string> = {
      'X-Harness-User': harnessUser.login,
      'X-Harness-Role': harnessUser.role,
      ...(options.headers ?? {}),
    };
    let body: string | undefined;
    if (options.data !== undefined && options.method && options.method !== 'GET') {
      body = typeof options.data === 'string' ? options.data : JSON.stringify(options.data);
      headers['Content-Type'] = 'application/json';
    }
    fetch(urlWithParams(options.url, options.params), {
      method: options.method ?? 'GET',
      headers,
      body,
      signal: controller.signal,
    })
      .then(async (res) => {
        const text = await res.text();
        let data: unknown = text;
        try {
          data = text ? JSON.parse(text) : undefined;
        } catch {
          data = text;
        }
        const response = {
          data: data as T,
          status: res.status,
          statusText: res.statusText,
          ok: res.ok,
          headers: res.headers,
          redirected: res.redirected,
          type: res.type,
          url: res.url,
          config: options,
        };
        if (res.ok) {
          subscriber.next(response);
          subscriber.complete();
        } else {
          subscriber.error({ ...response, message: (data as { message?: string })?.message ?? res.statusText });
        }
      })
      .catch((e) => subscriber.error(e));
    return () => controller.abort();
  });
}

const backendSrv = {
  fetch: fetchFromFront,
  get: <T>(url: string, params?: BackendSrvRequest['params']) =>
    lastValueFrom(fetchFromFront<T>({ url, params, method: 'GET' })).then((r) => r.data),
  post: <T>(url: string, data?: unknown) =>
    lastValueFrom(fetchFromFront<T>({ url, data, method: 'POST' })).then((r) => r.data),
  put: <T>(url: string, data?: unknown) =>
    lastValueFrom(fetchFromFront<T>({ url, data, method: 'PUT' })).then((r) => r.data),
  patch: <T>(url: string, data?: unknown) =>
    lastValueFrom(fetchFromFront<T>({ url, data, method: 'PATCH' })).then((r) => r.data),
  delete: <T>(url: string) => lastValueFrom(fetchFromFront<T>({ url, method: 'DELETE' })).then((r) => r.data),
  request: <T>(options: BackendSrvRequest) => lastValueFrom(fetchFromFront<T>(options)).then((r) => r.data),
  datasourceRequest: <T>(options: BackendSrvRequest) => lastValueFrom(fetchFromFront<T>(options)),
} as unknown as BackendSrv;

/** The dashboard the harness pretends to be (its uid goes out as X-Dashboard-Uid). */
export const harnessDashboard = { uid: 'checkout-slo', title: 'Checkout SLO', panelId: 7 };

/** A `team` variable (multi-value, with All) as a dashboard would define it. */
export const teamVariable = {
  name: 'team',
  type: 'query',
  multi: true,
  includeAll: true,
  current: { value: ['checkout'] as string[] | string, text: ['checkout'] as string[] | string },
  options: [] as Array<{ value: string; text: string }>,
};

function variableValue(name: string, scopedVars?: ScopedVars): unknown {
  if (scopedVars?.[name]) {
    return scopedVars[name]?.value;
  }
  if (name === 'team') {
    const v = teamVariable.current.value;
    const isAll = v === '$__all' || (Array.isArray(v) && v.includes('$__all'));
    return isAll ? teamVariable.options.map((o) => o.value) : v;
  }
  if (name === '__dashboard') {
    return harnessDashboard.uid;
  }
  return undefined;
}

function formatValue(value: unknown, format?: string | Function): string {
  if (typeof format === 'function') {
    return format(value);
  }
  if (format === 'json') {
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    return format === 'csv' ? value.join(',') : value.length === 1 ? String(value[0]) : `{${value.join(',')}}`;
  }
  return String(value);
}

const VARIABLE = /\$(\w+)|\$\{(\w+)(?::([\w-]+))?(?:\.(\w+))?\}|\[\[(\w+)(?::([\w-]+))?\]\]/g;

const templateSrv = {
  getVariables: () => [teamVariable] as unknown as TypedVariableModel[],
  replace: (target?: string, scopedVars?: ScopedVars, format?: string | Function) =>
    (target ?? '').replace(VARIABLE, (match, a, b, fmtB, _prop, c, fmtC) => {
      const name = a ?? b ?? c;
      const value = variableValue(name, scopedVars);
      return value === undefined ? match : formatValue(value, fmtB ?? fmtC ?? format);
    }),
  containsTemplate: (target?: string) => Boolean(target && new RegExp(VARIABLE.source).test(target)),
  updateTimeRange: () => {},
} as unknown as TemplateSrv;

/** The datasource as Grafana would describe it (uid `maturity`, the front's default). */
export function instanceSettings(jsonData: MaturityOptions): DataSourceInstanceSettings<MaturityOptions> {
  return {
    id: 1,
    uid: 'maturity',
    type: 'datadriven-maturity-datasource',
    name: 'Data-Driven Maturity',
    access: 'proxy',
    readOnly: false,
    jsonData,
    meta: {
      id: 'datadriven-maturity-datasource',
      name: 'Data-Driven Maturity',
      type: 'datasource',
      info: { version: 'harness' },
    },
  } as unknown as DataSourceInstanceSettings<MaturityOptions>;
}

/** Installs the services; call once before the datasource is created. */
export function installServices(settings: DataSourceInstanceSettings<MaturityOptions>) {
  setBackendSrv(backendSrv);
  setAppEvents(new EventBusSrv());
  // The panel reads the signed-in user's role from Grafana's boot data.
  (config as unknown as { bootData: { user: { orgRole: string } } }).bootData.user.orgRole = harnessUser.role;
  setTemplateSrv(templateSrv);
  setDataSourceSrv({
    getInstanceSettings: () => settings,
    getList: () => [settings],
    get: () => Promise.reject(new Error('not in the harness')),
    reload: () => {},
    registerRuntimeDataSource: () => {},
  } as unknown as DataSourceSrv);
}
