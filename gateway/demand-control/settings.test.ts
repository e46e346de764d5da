import { readDemandControlConfig } from './settings';

const NAMES = ['MAX_COST', 'DEMAND_CONTROL_MODE', 'DEMAND_CONTROL_LIST_SIZE'];

function withEnv<T>(env: Record<string, string>, read: () => T): T {
  const saved = Object.fromEntries(NAMES.map((name) => [name, process.env[name]]));
  for (const name of NAMES) delete process.env[name];
  Object.assign(process.env, env);
  try {
    return read();
  } finally {
    for (const name of NAMES) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  }
}

test('defaults: MAX_COST 5000, enforce, lists of 10', () => {
  expect(withEnv({}, readDemandControlConfig)).toEqual({ maxCost: 5000, mode: 'enforce', defaultListSize: 10 });
});

test('reads MAX_COST, DEMAND_CONTROL_MODE and DEMAND_CONTROL_LIST_SIZE, and names a bad one', () => {
  expect(withEnv({ MAX_COST: '300', DEMAND_CONTROL_MODE: 'measure', DEMAND_CONTROL_LIST_SIZE: '25' }, readDemandControlConfig)).toEqual({ maxCost: 300, mode: 'measure', defaultListSize: 25 });
  expect(() => withEnv({ DEMAND_CONTROL_MODE: 'log' }, readDemandControlConfig)).toThrow(/DEMAND_CONTROL_MODE/);
  expect(() => withEnv({ MAX_COST: '0' }, readDemandControlConfig)).toThrow(/MAX_COST/);
});
