import { defineConfig } from '@nocobase/test/e2e';

export default defineConfig();
