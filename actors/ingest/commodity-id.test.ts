import test from 'ava';
import { fileNameToId, isValidCommodityId, normalizeGivenId, seriesNameToId } from './commodity-id.ts';

test('file names of the shared data map to stable ids without frequency suffixes', (t) => {
  t.is(fileNameToId('wti-daily.csv'), 'WTI');
  t.is(fileNameToId('/work/shared/data/brent-daily.csv'), 'BRENT');
  t.is(fileNameToId('brent-daily'), 'BRENT');
  t.is(fileNameToId('henry-hub-daily.csv'), 'HENRY_HUB');
  t.is(fileNameToId('gold-monthly.csv'), 'GOLD');
  t.is(fileNameToId('imf-commodities-monthly.csv'), 'IMF_COMMODITIES');
  t.is(fileNameToId('.csv'), undefined);
});

test('a single frequency word is kept rather than leaving nothing', (t) => {
  t.is(fileNameToId('daily.csv'), 'DAILY');
});

test('IMF column names become readable upper snake case ids of at most 32 characters', (t) => {
  const cases: Array<[string, string]> = [
    ['Crude Oil petroleum', 'CRUDE_OIL_PETROLEUM'],
    ['Crude Oil - petroleum - Dated Brent light blend', 'CRUDE_OIL_PETROLEUM_DATED_BRENT'],
    ['Crude Oil petroleum - West Texas Intermediate 40 API', 'CRUDE_OIL_PETROLEUM_WEST_TEXAS'],
    ['Natural Gas - Russian Natural Gas border price in Germany', 'NATURAL_GAS_RUSSIAN_BORDER_PRICE'],
    ['Natural Gas - Spot price at the Henry Hub terminal in Louisiana', 'NATURAL_GAS_SPOT_PRICE_HENRY_HUB'],
    ['China import Iron Ore Fines 62% FE spot', 'CHINA_IMPORT_IRON_ORE_FINES_62'],
    ['Swine - pork', 'SWINE_PORK'],
    ['Sugar U.S. import price', 'SUGAR_US_IMPORT_PRICE'],
    ['All Commodity Price Index', 'ALL_COMMODITY_PRICE_INDEX'],
  ];
  for (const [name, id] of cases) {
    t.is(seriesNameToId(name), id, name);
    t.true(isValidCommodityId(id), id);
  }
});

test('a first word longer than an id is cut rather than dropped', (t) => {
  t.is(seriesNameToId('X'.repeat(40)), 'X'.repeat(32));
});

test('given ids are normalized lightly and malformed ones stay malformed', (t) => {
  t.is(normalizeGivenId(' wti '), 'WTI');
  t.is(normalizeGivenId('henry-hub'), 'HENRY_HUB');
  t.false(isValidCommodityId(normalizeGivenId('W$TI')));
  t.false(isValidCommodityId(normalizeGivenId('1WTI')));
  t.false(isValidCommodityId('A'.repeat(33)));
  t.true(isValidCommodityId('A'.repeat(32)));
});
