import { jest } from '@jest/globals';

// See jest.config.cjs: retried, with every failure before the retry printed.
jest.retryTimes(2, { logErrorsBeforeRetry: true });
