import { formatDoctorReport, runDoctor } from '../backend/doctor.js';

export async function doctorCommand(opts: { json?: boolean; verbose?: boolean }): Promise<void> {
  const report = await runDoctor();
  process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatDoctorReport(report)}\n`);
}
