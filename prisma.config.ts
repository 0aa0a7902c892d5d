// Prisma CLI configuration. The CLI's schema engine cannot be downloaded on
// these machines, so migrations are applied by src/db/migrate.ts instead of
// `prisma migrate deploy`; `prisma generate` works offline (scripts/prisma-generate.ts).
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://localhost/speckit' },
});
