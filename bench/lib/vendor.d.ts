// write-file-atomic ships no types (and @types/write-file-atomic is not installed): just what the bench calls.
declare module 'write-file-atomic' {
  interface Options {
    chown?: { uid: number; gid: number };
    encoding?: BufferEncoding;
    fsync?: boolean;
    mode?: number;
  }
  function writeFileAtomic(filename: string, data: string | Uint8Array, options?: Options): Promise<void>;
  namespace writeFileAtomic {
    function sync(filename: string, data: string | Uint8Array, options?: Options): void;
  }
  export = writeFileAtomic;
}
