// The slice of better-sqlite3's API the benchmarks use, typed here because the package ships
// no types and @types/better-sqlite3 is not a dependency. Only what bench/ calls is declared.

declare module 'better-sqlite3' {
  namespace Database {
    interface Options {
      readonly?: boolean;
      fileMustExist?: boolean;
    }

    interface RunResult {
      changes: number;
      lastInsertRowid: number | bigint;
    }

    interface Statement {
      run(...params: unknown[]): RunResult;
      get(...params: unknown[]): unknown;
      /** Makes `get` return the first column instead of a row object. */
      pluck(toggle?: boolean): this;
    }

    type Transaction<A extends unknown[]> = (...args: A) => void;
  }

  class Database {
    constructor(filename: string, options?: Database.Options);
    pragma(source: string, options?: { simple?: boolean }): unknown;
    exec(source: string): this;
    prepare(source: string): Database.Statement;
    transaction<A extends unknown[]>(fn: (...args: A) => void): Database.Transaction<A>;
    close(): this;
  }

  export = Database;
}
