import { createRequire } from 'node:module';
/** The native binding, loaded once. */
export const native = createRequire(import.meta.url)('fs-native-extensions');
//# sourceMappingURL=native.js.map