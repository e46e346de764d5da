import { runSubgraphProcess } from '../../runtime/subgraph-main';
import { paymentsSubgraph } from './index';

runSubgraphProcess(paymentsSubgraph);
