import { join } from 'node:path';
import { buildList, decodeListFile, fieldValue, loadSanctionsList, parseAlt, parseCsv, parseSdn } from './sdn';

describe('SDN CSV parsing', () => {
  it('parses quoted fields, doubled quotes, commas, CRLF and the trailing Ctrl-Z', () => {
    expect(parseCsv('1,"A, ""B""",-0- \r\n2,x,\r\n\x1a')).toEqual([
      ['1', 'A, "B"', '-0- '],
      ['2', 'x', ''],
    ]);
  });

  it('treats -0- and blanks as empty', () => {
    expect(fieldValue('-0- ')).toBeNull();
    expect(fieldValue(' -0-')).toBeNull();
    expect(fieldValue('  ')).toBeNull();
    expect(fieldValue(undefined)).toBeNull();
    expect(fieldValue(' SDGT ')).toBe('SDGT');
  });

  it('reads rows in the real sdn.csv layout', () => {
    const text =
      '36,"AEROCARIBBEAN AIRLINES",-0- ,"CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n' +
      '173,"ANGLO-CARIBBEAN CO., LTD.",-0- ,"CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n' +
      '306,"BANCO NACIONAL DE CUBA",-0- ,"CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,"a.k.a. \'BNC\'."\r\n' +
      '\x1a';
    expect(parseSdn(text)).toEqual([
      { entNum: '36', name: 'AEROCARIBBEAN AIRLINES', type: null, program: 'CUBA', title: null, remarks: null },
      { entNum: '173', name: 'ANGLO-CARIBBEAN CO., LTD.', type: null, program: 'CUBA', title: null, remarks: null },
      { entNum: '306', name: 'BANCO NACIONAL DE CUBA', type: null, program: 'CUBA', title: null, remarks: "a.k.a. 'BNC'." },
    ]);
  });

  it('reads alt.csv and joins aliases to their entries', () => {
    const alts = parseAlt('306,219,"aka","NATIONAL BANK OF CUBA",-0- \r\n');
    expect(alts).toEqual([{ entNum: '306', altNum: '219', type: 'aka', name: 'NATIONAL BANK OF CUBA', remarks: null }]);
    const list = buildList(parseSdn('306,"BANCO NACIONAL DE CUBA",-0- ,"CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- '), alts);
    expect(list).toEqual([{ id: '306', name: 'BANCO NACIONAL DE CUBA', names: [['banco', 'nacional', 'cuba'], ['national', 'bank', 'cuba']] }]);
  });

  it('skips malformed rows', () => {
    expect(parseSdn('x,"NO NUMBER"\r\n7,-0- \r\n\r\n')).toEqual([]);
  });

  it('decodes Windows-1252 when the bytes are not UTF-8', () => {
    expect(decodeListFile(Buffer.from([0x4d, 0xfc, 0x6c, 0x6c, 0x65, 0x72]))).toBe('Müller');
    expect(decodeListFile(Buffer.from('\uFEFFMüller', 'utf8'))).toBe('Müller');
  });

  it('loads the shipped synthetic list', () => {
    const loaded = loadSanctionsList(join(__dirname, 'sanctions-data'));
    expect(loaded.entries).toBeGreaterThanOrEqual(50);
    expect(loaded.entries).toBeLessThanOrEqual(200);
    expect(loaded.aliases).toBeGreaterThan(0);
    const kasparenko = loaded.list.find((p) => p.id === '10001')!;
    expect(kasparenko.name).toBe('KASPARENKO, Viktor Dragomirov');
    expect(kasparenko.names).toContainEqual(['vitya', 'kasparenko']);
  });
});
