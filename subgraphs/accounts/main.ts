import { runSubgraphProcess } from '../../runtime/subgraph-main';
import { accountsSubgraph } from './index';

runSubgraphProcess(accountsSubgraph);
