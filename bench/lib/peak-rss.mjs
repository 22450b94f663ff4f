// Preloaded (`node --import`) into a process whose peak memory a benchmark reports: at exit it writes
// the process's peak resident set size, in bytes, to the file named by PEAK_RSS_FILE.
import { writeFileSync } from 'node:fs';

process.on('exit', () => {
  if (process.env.PEAK_RSS_FILE)
    writeFileSync(process.env.PEAK_RSS_FILE, String(process.resourceUsage().maxRSS * 1024));
});
