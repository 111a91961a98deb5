import { flagValues, UsageError } from './cli.js';

describe('flagValues', () => {
  const known = ['calls', 'service-node-args'];

  it('reads --name value pairs, values that look like flags included', () => {
    const values = flagValues(['--calls', '50', '--service-node-args', '--cpu-prof'], known, 'u');
    expect([...values]).toEqual([
      ['calls', '50'],
      ['service-node-args', '--cpu-prof'],
    ]);
  });

  it.each([
    [['--help'], /^u$/],
    [['--calls'], /^bad argument --calls/],
    [['calls', '50'], /^bad argument calls/],
    [['--rounds', '3'], /^unknown option --rounds/],
  ])('refuses %j with the usage', (argv, message) => {
    expect(() => flagValues(argv, known, 'u')).toThrow(UsageError);
    expect(() => flagValues(argv, known, 'u')).toThrow(message);
  });
});
