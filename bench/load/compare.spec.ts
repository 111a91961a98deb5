import { formatComparison, formatRatiosTo, median, summarise, type RunFigures } from './compare.js';

function run(cpu: number, overrides: Partial<RunFigures> = {}): RunFigures {
  return {
    cpuMsPerCallSecond: cpu,
    inboundP99Ms: 1,
    outboundP99Ms: 2,
    framesLost: 0,
    toolsOverloaded: false,
    ...overrides,
  };
}

describe('bench:compare figures', () => {
  it('takes the median of odd and even counts, skipping what is not a number', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([NaN, 5])).toBe(5);
    expect(median([])).toBeNaN();
  });

  it('divides each run by the baseline of its own round, not by an average', () => {
    const variants = [
      { label: 'naive', args: [] },
      { label: 'ours', args: [] },
    ];
    // The machine slows down by half in round 2; the pairs still say 0.8 both times.
    const summaries = summarise(
      variants,
      [
        [run(5), run(4)],
        [run(7.5), run(6)],
      ],
      0,
    );
    expect(summaries[0].ratios).toEqual([1, 1]);
    expect(summaries[1].ratios.map((ratio) => ratio.toFixed(3))).toEqual(['0.800', '0.800']);
    expect(summaries[1].runs.map((figures) => figures.cpuMsPerCallSecond)).toEqual([4, 6]);
  });

  it('prints the median ratio with its range, losses, and flags runs whose tools ran late', () => {
    const variants = [
      { label: 'naive', args: [] },
      { label: 'ours', args: [] },
    ];
    const rounds = [
      [run(5), run(4, { framesLost: 2 })],
      [run(5), run(4.5, { toolsOverloaded: true })],
      [run(5), run(3.5)],
    ];
    const text = formatComparison(50, summarise(variants, rounds, 0));
    expect(text).toContain('ours   cpu 4.00 4.50 3.50  ratio 0.80 (0.70-0.90)');
    expect(text).toContain('1.00/2.00*');
    expect(text).toContain('lost 2');
    expect(text).toMatch(/\* the generator or the fake ran more than 5 ms late/);
  });

  it('prints every other variant against the floor, paired within the rounds', () => {
    const variants = [
      { label: 'naive', args: [] },
      { label: 'floor', args: [] },
      { label: 'ours', args: [] },
    ];
    const rounds = [
      [run(5), run(4), run(5)],
      [run(8), run(3), run(3.6)],
      [run(5), run(5), run(6.5)],
    ];
    const text = formatRatiosTo('floor', summarise(variants, rounds, 1));
    expect(text).toContain('ratio to floor in the same rounds');
    expect(text).toContain('ours   1.25 (1.20-1.30)');
    expect(text).toContain('naive  1.25 (1.00-2.67)');
    expect(text).not.toMatch(/^ +floor /m);
  });
});
