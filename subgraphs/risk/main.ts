import { runSubgraphProcess } from '../../runtime/subgraph-main';
import { riskSubgraph } from './index';

runSubgraphProcess(riskSubgraph);
