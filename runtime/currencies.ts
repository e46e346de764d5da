/**
 * Active ISO 4217 currencies and their minor-unit exponents (list as amended through 2026:
 * ANG replaced by XCG, BGN withdrawn after Bulgaria's euro changeover, CUC, HRK, SLL and
 * ZWL withdrawn). Precious metals, SDR and testing codes have no minor unit and are left out:
 * they cannot carry a payment amount.
 */
const EXPONENT_0 = 'BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF';
const EXPONENT_3 = 'BHD IQD JOD KWD LYD OMR TND';
const EXPONENT_4 = 'CLF UYW';
const EXPONENT_2 =
  'AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BMD BND BOB BOV BRL BSD BTN BWP BYN BZD ' +
  'CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP ' +
  'GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK ' +
  'LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO ' +
  'NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS ' +
  'SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST ' +
  'XCD XCG YER ZAR ZMW ZWG';

function table(): ReadonlyMap<string, number> {
  const map = new Map<string, number>();
  const add = (codes: string, exponent: number) => {
    for (const code of codes.split(/\s+/).filter(Boolean)) map.set(code, exponent);
  };
  add(EXPONENT_0, 0);
  add(EXPONENT_2, 2);
  add(EXPONENT_3, 3);
  add(EXPONENT_4, 4);
  return map;
}

/** Currency code → number of minor-unit digits. */
export const CURRENCY_EXPONENTS: ReadonlyMap<string, number> = table();

export function isCurrency(code: string): boolean {
  return CURRENCY_EXPONENTS.has(code);
}
