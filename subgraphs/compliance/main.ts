import { runSubgraphProcess } from '../../runtime/subgraph-main';
import { complianceSubgraph } from './index';

runSubgraphProcess(complianceSubgraph);
