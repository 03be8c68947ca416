/**
 * The SWIM validation table's measurements, at n = 100: first detection near
 * the paper's e/(e - 1) periods (section 3.1), dissemination within a few
 * times ln n periods (section 4.1), and a message load of about two per member
 * per period, the same at n = 50 and n = 200; the table covers n = 100 to
 * 10,000 and its large rows crash several members per round.
 */
import { describe, expect, it } from 'vitest';
import {
  crashesPerRound,
  FIRST_DETECTION_PERIODS,
  formatSwimValidation,
  SWIM_VALIDATION_SIZES,
  swimValidationRow,
} from '../../src/validation/swim.js';

describe('SWIM validation', () => {
  it('first detection takes about e/(e - 1) periods, dissemination O(log n), and the load is about two messages per member per period', () => {
    const row = swimValidationRow(100, 30);
    expect(row.failures).toBe(30);
    // Geometric with p = 1 - 1/e: sd about 0.95 periods, so the mean of 30 is within 0.5 of 1.58 with room to spare.
    expect(Math.abs(row.detectionPeriods - FIRST_DETECTION_PERIODS)).toBeLessThan(0.5);
    expect(row.disseminationPeriods).toBeGreaterThan(1);
    expect(row.disseminationPeriods).toBeLessThan(2 * Math.log(100));
    expect(row.messagesPerMemberPerPeriod).toBeGreaterThan(2);
    expect(row.messagesPerMemberPerPeriod).toBeLessThan(2.3);
    expect(formatSwimValidation([row])).toMatch(/^\| n \| failures \| first detection/);
  });

  it('the message load per member per period does not grow with n', () => {
    const small = swimValidationRow(50, 5);
    const large = swimValidationRow(200, 5);
    expect(Math.abs(large.messagesPerMemberPerPeriod - small.messagesPerMemberPerPeriod)).toBeLessThan(0.1);
  });

  it('covers n = 100 to 10,000, crashing one member per 2,500 in each round', () => {
    expect(SWIM_VALIDATION_SIZES).toEqual([100, 300, 1000, 3000, 10000]);
    expect(SWIM_VALIDATION_SIZES.map(crashesPerRound)).toEqual([1, 1, 1, 1, 4]);
  });

  it('with several crashes per round, every failure is counted and detection and dissemination stay in range', () => {
    const row = swimValidationRow(200, 12, 30, 'swim-validation-rounds', 4);
    expect(row.failures).toBe(12);
    expect(Math.abs(row.detectionPeriods - FIRST_DETECTION_PERIODS)).toBeLessThan(0.8);
    expect(row.disseminationPeriods).toBeGreaterThan(1);
    expect(row.disseminationPeriods).toBeLessThan(2 * Math.log(200));
    const table = formatSwimValidation([row]);
    expect(table).toContain(`| 200 | 12 | ${row.detectionPeriods.toFixed(2)} ± `);
    expect(table).toContain('| 1.58 |');
    expect(table).toContain(`| ${Math.log(200).toFixed(2)} |`);
  });
});
