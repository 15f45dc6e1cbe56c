/**
 * Import rules checked by `npm run lint` (dependency-cruiser): no import circles, type-only
 * imports included, and no import that points from a lower layer up. The layers, bottom
 * up: errors/config/log/version (+ data/types.ts, the wire vocabulary the emulator shares)
 * → resilience/, coordination/ and transport/ → data/ → client.ts → the entry points. The emulator
 * (local/) and the CLI (cli/) sit beside the SDK: the SDK never imports them.
 */
const BASE = '^src/(errors|config|log|version)\\.ts$';

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'An import circle: break it with a types module or a leaf module (see README "Design").',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'base-imports-nothing-above',
      comment: 'errors, config, log and version are the bottom layer (data/types.ts is a types-only leaf).',
      severity: 'error',
      from: { path: BASE },
      to: { path: '^src/', pathNot: [BASE, '^src/data/types\\.ts$'] },
    },
    {
      name: 'resilience-below-transport-and-data',
      severity: 'error',
      from: { path: '^src/resilience/' },
      to: { path: '^src/(transport|data|local|cli)/|^src/(client|index|grpc|local)\\.ts$' },
    },
    {
      name: 'coordination-below-data',
      comment: 'Shared state across processes (coordination/) sits beside resilience/: the limiter may use it.',
      severity: 'error',
      from: { path: '^src/coordination/' },
      to: { path: '^src/(transport|data|local|cli)/|^src/(client|index|grpc|local)\\.ts$' },
    },
    {
      name: 'transport-below-data',
      severity: 'error',
      from: { path: '^src/transport/' },
      to: { path: '^src/(data|local|cli)/|^src/(client|index|grpc|local)\\.ts$' },
    },
    {
      name: 'data-below-client',
      comment: 'Index classes get an explicit ClientContext, never the client.',
      severity: 'error',
      from: { path: '^src/data/' },
      to: { path: '^src/(local|cli)/|^src/(client|index|grpc|local)\\.ts$' },
    },
    {
      name: 'sdk-never-imports-emulator-or-cli',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(local/|cli/|local\\.ts$)' },
      to: { path: '^src/(local|cli)/|^src/local\\.ts$' },
    },
    {
      name: 'emulator-never-imports-the-client',
      comment:
        'The emulator shares wire types and formats (float32 to JSON), the clock and generated messages, nothing else.',
      severity: 'error',
      from: { path: '^src/local/' },
      to: {
        path: '^src/',
        pathNot: [
          '^src/local/',
          '^src/data/types\\.ts$',
          '^src/data/float32\\.ts$',
          '^src/gen/',
          '^src/resilience/(clock|abort)\\.ts$',
          '^src/errors\\.ts$',
        ],
      },
    },
    {
      name: 'grpc-library-only-from-its-entry',
      comment:
        'Only the gRPC entry point loads @grpc/grpc-js statically; GrpcIndex imports its wire dynamically.',
      severity: 'error',
      from: {
        path: '^src/',
        pathNot: '^src/(grpc\\.ts|transport/grpc\\.ts|transport/grpc-tls\\.ts|data/grpc-wire\\.ts|local/)',
      },
      to: {
        path: '@grpc/grpc-js|^src/transport/grpc(-tls)?\\.ts$|^src/data/grpc-wire\\.ts$',
        dependencyTypesNot: ['dynamic-import'],
      },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^src/gen/' },
  },
};
