import { BadRequestException } from '@nestjs/common';
import type { Response } from 'express';
import { isCallId } from '../call-control/call-control.rules.js';
import { csvHeader, csvRows } from './history-csv.js';
import { MAX_HISTORY_CSV_ROWS, MAX_HISTORY_PAGE, parseHistoryQuery } from './history-query.js';
import type { HistoryPage } from './history.repository.js';
import type { HistoryService } from './history.service.js';

/**
 * What the API's and the console's history routes share: the same checks and answers, each
 * controller adding only its own authentication.
 */
export class HistoryRoutes {
  constructor(private readonly history: HistoryService) {}

  /** `GET .../history`: a page as JSON, or with `format=csv` every match (bounded) as CSV. */
  async list(raw: Record<string, unknown>, res: Response): Promise<HistoryPage | undefined> {
    const query = parseHistoryQuery(raw);
    if (query.format === 'json') return this.history.list(query);
    let body = csvHeader();
    let page = await this.history.list({ ...query, limit: MAX_HISTORY_PAGE });
    let rows = 0;
    for (;;) {
      const calls = page.calls.slice(0, MAX_HISTORY_CSV_ROWS - rows);
      body += csvRows(calls);
      rows += calls.length;
      if (!page.next || rows >= MAX_HISTORY_CSV_ROWS) break;
      page = await this.history.list({
        ...query,
        limit: MAX_HISTORY_PAGE,
        cursor: parseHistoryQuery({ cursor: page.next }).cursor,
      });
    }
    res
      .status(200)
      .type('text/csv; charset=utf-8')
      .setHeader('Content-Disposition', 'attachment; filename="call-history.csv"');
    res.send(body);
    return undefined;
  }

  get(callSid: string) {
    return this.history.get(validCallId(callSid));
  }

  erase(callSid: string) {
    return this.history.erase(validCallId(callSid));
  }
}

/** The same call-id rule as the rest of the API: a Twilio CallSid, or OpenAI's `rtc_...`. */
export function validCallId(callSid: string): string {
  if (isCallId(callSid)) return callSid;
  throw new BadRequestException('not a call id (a Twilio CallSid CA + 32 hex, or rtc_...)');
}
