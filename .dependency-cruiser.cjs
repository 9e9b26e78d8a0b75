/**
 * The import rules of docs/ARCHITECTURE.md, checked by `npm run lint` (dependency-cruiser).
 * Types count: a type-only cycle is still two files that cannot be read apart.
 */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'no import cycles, type-only ones included', from: {}, to: { circular: true } },
    { name: 'client-not-server', severity: 'error', comment: 'the client speaks the protocol (src/protocol), it does not reach into the server', from: { path: '^src/client/' }, to: { path: '^src/server/' } },
    { name: 'server-not-client', severity: 'error', comment: 'the server does not import the client', from: { path: '^src/server/' }, to: { path: '^src/client/' } },
    { name: 'protocol-stands-alone', severity: 'error', comment: 'wire formats depend on nothing but errors, tensors and each other', from: { path: '^src/protocol/' }, to: { path: '^src/(?!protocol/|errors\\.ts|tensor\\.ts|preview\\.ts)' } },
    { name: 'core-not-front-ends', severity: 'error', comment: 'engine, scheduler, runtime, placement, repository and preprocess never import a front end', from: { path: '^src/(engine|scheduler|runtime|placement|repository|preprocess)/' }, to: { path: '^src/(server|client|cli|bench)/' } },
    { name: 'src-not-tests-or-benchmarks', severity: 'error', from: { path: '^src/' }, to: { path: '^(test|benchmarks)/' } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs'] },
  },
};
