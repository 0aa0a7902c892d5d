// The image's HEALTHCHECK picks the port from the role on the command line
// (scripts/healthcheck.ts); the container-recipe test runs it in both roles.
import { describe, expect, it } from 'vitest';
import { healthcheckTargets } from '../../scripts/healthcheck.ts';

const IMAGE_ENV = { HOST: '0.0.0.0', PORT: '3000', METRICS_PORT: '9464' };

describe('healthcheckTargets', () => {
  it('asks a web process on PORT, whatever METRICS_PORT says', () => {
    expect(healthcheckTargets([['node', 'src/main.ts']], IMAGE_ENV)).toEqual({
      urls: ['http://127.0.0.1:3000/healthz'],
    });
  });

  it('asks a worker-only process on METRICS_PORT, also when npm start runs it', () => {
    const npm = [
      ['npm', 'run', 'worker'],
      ['node', '--env-file-if-exists=.env', '/app/src/main.ts', '--worker'],
    ];
    expect(healthcheckTargets(npm, IMAGE_ENV)).toEqual({ urls: ['http://127.0.0.1:9464/healthz'] });
  });

  it('says what to set when a worker-only process has no METRICS_PORT', () => {
    const result = healthcheckTargets([['node', 'src/main.ts', '--worker']], { PORT: '3000' });
    expect(result).toEqual({ problem: expect.stringContaining('set METRICS_PORT') });
  });

  it('is unhealthy when no speckit process runs', () => {
    expect(healthcheckTargets([['/bin/sh'], ['node', 'other.js']], IMAGE_ENV)).toEqual({
      problem: expect.stringContaining('no speckit process'),
    });
  });

  it('uses a specific bind address, and PORT 3000 when unset', () => {
    expect(healthcheckTargets([['node', 'src/main.ts']], { HOST: '::1' })).toEqual({
      urls: ['http://[::1]:3000/healthz'],
    });
  });
});
