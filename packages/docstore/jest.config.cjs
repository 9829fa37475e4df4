// The document stores' suites run against emulators and a serialized FerretDB on a shared
// machine, and two of their conformance cases still fail now and then for reasons not yet found
// (an acquire denied right after a release on FerretDB; a Firestore call after the client was
// terminated in the resign case): see the issue notes. Until they are, a failed test is run
// again once (twice at most) and its first failure is printed, so a flake shows in the log
// without turning CI red, while a test that fails every time still fails.
module.exports = {
  ...require('../../jest.preset.cjs'),
  setupFilesAfterEnv: [require('node:path').join(__dirname, 'test/retry-flaky.ts')],
};
