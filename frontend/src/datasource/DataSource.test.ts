// What the datasource sends and what it holds back, before any request leaves the browser.
import { DataSource, missingPart } from './DataSource';
import { QUERY_TYPES } from './schema';
import type { MaturityQuery } from './types';

const ds = new DataSource({ uid: 'maturity', jsonData: {} } as never);
const q = (o: object) => ({ refId: 'A', ...o }) as MaturityQuery;

describe('filterQuery', () => {
  it('holds back hidden queries', () => {
    expect(ds.filterQuery(q({ queryType: 'maturity' }))).toBe(true);
    expect(ds.filterQuery(q({ queryType: 'maturity', hide: true }))).toBe(false);
  });

  it('holds back incomplete queries: no type, an unknown type, a target series without target or team', () => {
    expect(ds.filterQuery(q({}))).toBe(false);
    expect(ds.filterQuery(q({ queryType: 'vote' }))).toBe(false);
    expect(ds.filterQuery(q({ queryType: 'targetSeries' }))).toBe(false);
    expect(ds.filterQuery(q({ queryType: 'targetSeries', team: [] }))).toBe(false);
    expect(ds.filterQuery(q({ queryType: 'targetSeries', team: 'payments' }))).toBe(true);
    expect(ds.filterQuery(q({ queryType: 'targetSeries', targetId: 't1' }))).toBe(true);
    expect(missingPart(q({ queryType: 'targetSeries' }))).toBe('a target or a team');
  });

  it('lets every other query type through with nothing but its type', () => {
    for (const t of QUERY_TYPES.filter((t) => t.queryType !== 'targetSeries')) {
      expect([t.queryType, ds.filterQuery(q({ queryType: t.queryType }))]).toEqual([t.queryType, true]);
    }
  });
});

describe('annotations', () => {
  it('a new layer starts as an events query', () => {
    expect(ds.annotations!.getDefaultQuery!()).toMatchObject({ queryType: 'events' });
  });

  it('a layer whose query is not annotation-shaped is run as events, keeping its filters', () => {
    const prepared = ds.annotations!.prepareQuery!({
      name: 'x',
      enable: true,
      iconColor: 'red',
      target: q({ queryType: 'maturity', team: 'a' }),
    });
    expect(prepared).toMatchObject({ queryType: 'events', team: 'a', refId: 'Anno' });
    const changes = ds.annotations!.prepareQuery!({
      name: 'x',
      enable: true,
      iconColor: 'red',
      target: q({ queryType: 'levelChanges' }),
    });
    expect(changes).toMatchObject({ queryType: 'levelChanges', refId: 'Anno' });
  });
});

describe('the query types offered', () => {
  it('are exactly those of the backend schema, each described', () => {
    expect(QUERY_TYPES.length).toBeGreaterThanOrEqual(13);
    for (const t of QUERY_TYPES) {
      expect(t.description.length).toBeGreaterThan(10);
    }
  });
});
