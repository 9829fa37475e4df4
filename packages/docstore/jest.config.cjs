module.exports = {
  ...require('../../jest.preset.cjs'),
  // The Firestore SDK keeps retrying a request to an unreachable server for minutes after the
  // call that sent it gave up (a write to a closed port had not failed after 100 s), and its
  // client cannot be terminated while one is in flight (see firestore-collection.ts). The
  // fail-fast tests make exactly such requests, so jest would wait on them long after the
  // tests are done: exit once they are.
  forceExit: true,
};
