import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'mongodb/index': 'src/mongodb/index.ts',
    'dynamodb/index': 'src/dynamodb/index.ts',
    'firestore/index': 'src/firestore/index.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  platform: 'neutral',
  external: ['mongodb', '@aws-sdk/client-dynamodb', '@google-cloud/firestore'],
});
