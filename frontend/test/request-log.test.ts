import { describe, expect, it } from 'vitest';
import { csvHref, filtersFromSearch, requestLogPath, searchOf } from '../src/lib/request-log.ts';

describe('request log filters in the address', () => {
  it('reads the API\'s own parameters and drops the rest', () => {
    expect(filtersFromSearch('?user_id=u1&status_class=5xx&code=&page=3&fallback_unavailable=no_bedrock_key')).toEqual({
      user_id: 'u1',
      status_class: '5xx',
      fallback_unavailable: 'no_bedrock_key',
    });
    expect(filtersFromSearch('')).toEqual({});
  });
  it('writes them back in a fixed order, so the same view is the same link', () => {
    expect(searchOf({ status_class: '4xx', user_id: 'u1' })).toBe('?user_id=u1&status_class=4xx');
    expect(searchOf({ model: '  ', code: undefined })).toBe('');
    const search = '?user_id=u1&provider=plan&model=claude-sonnet-5-5&from=2026-11-25T04%3A00%3A00.000Z';
    expect(searchOf(filtersFromSearch(search))).toBe(search);
  });
  it('links to the log filtered to a user', () => {
    expect(requestLogPath({ user_id: 'a b' })).toBe('/requests?user_id=a+b');
    expect(requestLogPath({})).toBe('/requests');
  });
});

describe('csvHref', () => {
  it('is the CSV twin under /admin with the same query, without empty values', () => {
    expect(csvHref('/requests.csv', { user_id: 'u1', code: '', provider: undefined, limit: 200 })).toBe('/admin/requests.csv?user_id=u1&limit=200');
    expect(csvHref('/usage.csv', {})).toBe('/admin/usage.csv');
    expect(csvHref('/usage/top-users.csv', { period: 'week', by: 'cost' })).toBe('/admin/usage/top-users.csv?period=week&by=cost');
  });
});
