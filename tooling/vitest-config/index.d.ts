import type { UserConfig } from 'vitest/config';

export declare function pathquicVitest(overrides?: NonNullable<UserConfig['test']>): UserConfig;
