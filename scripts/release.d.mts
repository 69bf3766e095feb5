// Types of scripts/release.mjs for the tests that import it.
export const UNRELEASED: string;
export function compareVersions(a: string, b: string): -1 | 0 | 1;
export function releaseChangelog(text: string, version: string, date: string): string;
export function releaseFiles(root: string, version: string, date: string): Map<string, string>;
export function nextSteps(version: string): string[];
