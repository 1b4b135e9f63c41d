import test from 'ava';
import { isNonPositivePrice, logReturn, simpleReturn } from './returns.ts';

const simpleCases: [previous: number, current: number, expected: number | undefined][] = [
  [10, 11, 0.1], // (11 - 10) / 10
  [10, 9, -0.1], // (9 - 10) / 10
  [-20, -10, 0.5], // (-10 - -20) / |-20|: a rise from a negative price is positive
  [-10, 5, 1.5], // (5 - -10) / 10
  [10, -5, -1.5], // (-5 - 10) / 10
  [5, 0, -1], // (0 - 5) / 5
  [0, 5, undefined], // no return from a zero price
  [0, 0, undefined],
];
for (const [previous, current, expected] of simpleCases) {
  test(`simpleReturn(${previous}, ${current}) is ${expected}`, (t) => {
    t.is(simpleReturn(previous, current), expected);
  });
}

const logCases: [previous: number, current: number, expected: number | undefined][] = [
  [10, 10, 0], // ln 1
  [1, Math.E, 1], // ln e
  [10, 20, Math.LN2], // ln 2
  [10, 0, undefined],
  [0, 10, undefined],
  [-5, 5, undefined],
  [5, -5, undefined],
  [-5, -10, undefined], // the ratio is positive, but the prices are not
];
for (const [previous, current, expected] of logCases) {
  test(`logReturn(${previous}, ${current}) is ${expected}`, (t) => {
    t.is(logReturn(previous, current), expected);
  });
}

const flagCases: [previous: number | undefined, current: number, expected: boolean][] = [
  [undefined, 5, false],
  [undefined, 0, true],
  [undefined, -1, true],
  [5, 6, false],
  [5, 0, true],
  [-36.98, 8.91, true], // WTI 2020-04-21: the previous settlement was negative
  [18.31, -36.98, true], // WTI 2020-04-20
];
for (const [previous, current, expected] of flagCases) {
  test(`isNonPositivePrice(${previous}, ${current}) is ${expected}`, (t) => {
    t.is(isNonPositivePrice(previous, current), expected);
  });
}
