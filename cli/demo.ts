/**
 * `lmm demo [--units N] [--json]`: the classic walkthrough of the Linux Memory
 * Manager API.
 *
 * @module
 */

import {
  formatBlockUsage,
  formatMemoryUsage,
  formatRegisteredPageFamilies,
  mmInit,
  mmRegStruct,
  xcalloc,
  xfree,
} from "../seed.ts";
import { parseFlags, parsePositiveInt, UsageError } from "./args.ts";
import { EXIT_OK } from "./exit_codes.ts";
import { resolveLibrary } from "./library.ts";
import { writeAll } from "./output.ts";

/** The largest `--units`. */
export const MAX_UNITS = 1_000_000;

/** Help of `lmm demo`. */
export const demoHelp = `The classic Linux Memory Manager walkthrough on LMM, step by step.

Usage: lmm demo [--units N] [--json]

Registers the structures emp_t (36 bytes) and student_t (56 bytes), allocates
three emp_t and two student_t, frees some, then the rest, and after each step
prints the block usage of every VM page and, per family, TBC, FBC and OBC (total,
free and occupied blocks) and AppMemUsage (app bytes: units × struct size of the
live blocks), in the classic API's text format.

Options:
      --units N  allocate N structures per allocation (default 1; up to ${MAX_UNITS}):
                 the classic "large number of allocations" variant
      --json     print each step's report (statistics and blocks) as JSON instead
  -h, --help     show this help

Exit status: 0 done; 1 the library could not be loaded; 2 usage error.`;

/** Parsed `lmm demo` arguments. */
export interface DemoArgs {
  help: boolean;
  units: number;
  json: boolean;
}

/**
 * Parses the arguments after `lmm demo` (pure).
 *
 * @param args The arguments.
 * @returns The demo's settings.
 * @throws {UsageError} On bad usage.
 */
export function parseDemoArgs(args: string[]): DemoArgs {
  const { values, positionals } = parseFlags("demo", args, {
    units: { type: "string" },
    json: { type: "boolean" },
  });
  if (positionals.length > 0) {
    throw new UsageError(`unexpected argument '${positionals[0]}'`, "demo");
  }
  const units = values.units === undefined
    ? 1
    : parsePositiveInt("demo", "units", values.units as string, MAX_UNITS);
  return { help: !!values.help, units, json: !!values.json };
}

/** One step of the walkthrough: what it does to the default heap. */
interface Step {
  title: string;
  actions: string[];
  run(blocks: Map<string, number>): void;
}

/** The classic test application: its structures and its three scenarios. */
const STRUCTS = [{ name: "emp_t", size: 36 }, { name: "student_t", size: 56 }] as const;
const ALLOCATIONS = [
  ["emp1", "emp_t"],
  ["emp2", "emp_t"],
  ["emp3", "emp_t"],
  ["stud1", "student_t"],
  ["stud2", "student_t"],
] as const;

function steps(units: number): Step[] {
  const free = (names: string[]): Step["run"] => (blocks) => {
    for (const name of names) xfree(blocks.get(name)!);
  };
  return [
    {
      title: "SCENARIO 1",
      actions: ALLOCATIONS.map(([v, s]) => `${v} = xcalloc("${s}", ${units})`),
      run(blocks): void {
        for (const [name, struct] of ALLOCATIONS) {
          blocks.set(name, xcalloc(struct, units));
        }
      },
    },
    {
      title: "SCENARIO 2",
      actions: ["xfree(emp1)", "xfree(emp3)", "xfree(stud2)"],
      run: free(["emp1", "emp3", "stud2"]),
    },
    {
      title: "SCENARIO 3",
      actions: ["xfree(emp2)", "xfree(stud1)"],
      run: free(["emp2", "stud1"]),
    },
  ];
}

/**
 * Runs the walkthrough on the classic API's default heap (4 KiB VM pages, like
 * the C original) and prints, after each step, the memory usage and block
 * usage (or, with `--json`, one document with each step's report).
 *
 * @param args Parsed arguments.
 * @returns The exit status.
 * @throws {LmmError} When the library cannot be loaded.
 */
export async function demoCommand(args: DemoArgs): Promise<number> {
  if (args.help) {
    console.log(demoHelp);
    return EXIT_OK;
  }
  await resolveLibrary();
  const heap = mmInit();
  try {
    for (const { name, size } of STRUCTS) mmRegStruct(name, size);
    const blocks = new Map<string, number>();
    const snapshots = steps(args.units).map(({ title, actions, run }) => {
      run(blocks);
      return { title, actions, report: heap.report() };
    });
    heap.check();
    const text = args.json ? JSON.stringify({ steps: snapshots }, null, 2) : [
      formatRegisteredPageFamilies(snapshots[0].report.heaps[0]),
      ...snapshots.flatMap(({ title, actions, report: { heaps: [state] } }) => [
        ` \n${title} : *********** `,
        ...actions.map((action) => `  ${action};`),
        formatMemoryUsage(state),
        formatBlockUsage(state),
      ]),
    ].join("\n");
    await writeAll(Deno.stdout, text + "\n");
  } finally {
    heap.close();
  }
  return EXIT_OK;
}
