// `npm run db:migrate`: applies pending migrations and exits.
import { readConfig } from '../config.ts';
import { openDatabase } from './open-database.ts';

const config = readConfig();
const database = await openDatabase(config, { migrate: true, log: (message) => console.log(message) });
await database.close();
