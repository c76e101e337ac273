import { describe, expect, it } from 'vitest';
import {
  expectedGainScorer,
  GainMap,
  gainsForLabels,
  labelProbabilityScorer,
  parseGains,
  softmax,
} from '../../src/eval/gains.js';
import { UsageError } from '../../src/lib/errors.js';

const LABELS = ['Complement', 'Exact', 'Irrelevant', 'Substitute'];

describe('gains', () => {
  it('ESCI by default, case-insensitive, letters too', () => {
    const g = GainMap.esci();
    expect(Array.from(gainsForLabels(LABELS, g))).toEqual([0.01, 1, 0, 0.1]);
    expect([g.gainOf('exact'), g.gainOf('S'), g.gainOf('c'), g.gainOf('Other')]).toEqual([1, 0.1, 0.01, undefined]);
  });

  it('parses LABEL=NUMBER lists and refuses bad ones', () => {
    expect(parseGains('Exact=3, Substitute = 1,Irrelevant=0').gainOf('substitute')).toBe(1);
    expect(() => parseGains('Exact=1,Substitute')).toThrow('gains: "Substitute" is not LABEL=NUMBER');
    expect(() => parseGains('Exact=x')).toThrow(UsageError);
    expect(() => parseGains('Exact=-1')).toThrow('gain of "Exact" is -1; gains must be finite numbers >= 0');
    expect(() => new GainMap({ a: 1, A: 2 })).toThrow('gains "a" and "A" differ only in case');
    expect(() => gainsForLabels(LABELS, parseGains('Exact=1,Irrelevant=0'))).toThrow(
      'no gain for label(s) "Complement", "Substitute" of the model; the gains map has Exact=1, Irrelevant=0',
    );
  });

  it('scores a pair by expected gain or by the probability of one label', () => {
    const p = [0.1, 0.5, 0.3, 0.1];
    expect(expectedGainScorer(LABELS, GainMap.esci())(p)).toBeCloseTo(0.1 * 0.01 + 0.5 + 0.1 * 0.1, 15);
    expect(labelProbabilityScorer(LABELS, 'exact')(p)).toBe(0.5);
    expect(() => labelProbabilityScorer(LABELS, 'Great')).toThrow(
      'label "Great" is not one of the model\'s labels: Complement, Exact, Irrelevant, Substitute',
    );
    expect(() => expectedGainScorer(LABELS, GainMap.esci())([0.5, 0.5])).toThrow('expected 4 class probabilities');
  });

  it('softmax is stable for large logits', () => {
    const s = softmax([1000, 1000, 998]);
    expect(s[0]).toBeCloseTo(1 / (2 + Math.exp(-2)), 15);
    expect(s.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 15);
  });
});
