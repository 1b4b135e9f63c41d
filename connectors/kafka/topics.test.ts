import test from 'ava';
import { allTopicNames, dlqOf, topicNames } from './topics.ts';

test('without a prefix the topics have their plain names', (t) => {
  t.deepEqual(topicNames(), { prices: 'commodity-prices', predictions: 'ml-predictions', alerts: 'commodity-alerts', modelUpdates: 'model-updates' });
});

test('a prefix is joined with a dot, unless it already ends with one', (t) => {
  t.is(topicNames('newcomer').prices, 'newcomer.commodity-prices');
  t.is(topicNames('newcomer.').prices, 'newcomer.commodity-prices');
  t.is(topicNames('team-a.staging').modelUpdates, 'team-a.staging.model-updates');
});

test('every topic and its DLQ carry the namespace', (t) => {
  const names = allTopicNames(topicNames('newcomer'));
  t.is(names.length, 8);
  t.true(names.every((n) => n.startsWith('newcomer.')));
  t.true(names.includes(dlqOf('newcomer.commodity-prices')));
});
