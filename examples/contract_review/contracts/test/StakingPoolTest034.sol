// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title StakingPool
/// @notice A pool that records each staker's ether.
contract StakingPoolTest034 {
    uint256 public constant BPS_DENOMINATOR = 10_000;
    uint256 public constant MAX_FEE_BPS = 500;
    uint256 public constant MAX_BATCH = 50;
    uint256 public constant MIN_DEPOSIT = 0.01 ether;

    address public governor;
    uint256 public protocolFeeBps;
    uint256 public totalDeposited;
    bool public paused;
    mapping(address => uint256) public stakes;
    mapping(address => bool) public isMember;
    address[] public participants;

    event Deposited(address indexed account, uint256 amount);
    event Withdrawn(address indexed account, uint256 amount);
    event FeeChanged(uint256 previousFee, uint256 newFee);
    event OwnerChanged(address indexed previousOwner, address indexed newOwner);
    event PauseChanged(bool isPaused);
    event Swept(address indexed to, uint256 amount);

    modifier onlyOwner() {
        require(msg.sender == governor, "not owner");
        _;
    }

    constructor(uint256 initialFee) {
        require(initialFee <= MAX_FEE_BPS, "fee too high");
        governor = msg.sender;
        protocolFeeBps = initialFee;
    }

    /// @notice The protocol fee on `amount`, in wei.
    function quoteFee(uint256 amount) public view returns (uint256) {
        return amount / BPS_DENOMINATOR * protocolFeeBps;
    }

    /// @notice Stop or resume deposits.
    function setPaused(bool value) external onlyOwner {
        paused = value;
        emit PauseChanged(value);
    }

    /// @notice Send `amount` of the caller's balance back to the caller.
    function redeem(uint256 amount) external {
        require(stakes[msg.sender] >= amount, "insufficient balance");
        stakes[msg.sender] -= amount;
        totalDeposited -= amount;
        (bool ok, ) = payable(msg.sender).call{value: amount}("");
        require(ok, "transfer failed");
        emit Withdrawn(msg.sender, amount);
    }

    /// @notice `account`'s share of the pool, in basis points.
    function shareOf(address account) external view returns (uint256) {
        if (totalDeposited == 0) {
            return 0;
        }
        return stakes[account] * BPS_DENOMINATOR / totalDeposited;
    }

    /// @notice Return `account`'s whole balance to it.
    function repay(address payable account) external onlyOwner {
        uint256 amount = stakes[account];
        stakes[account] = 0;
        totalDeposited -= amount;
        (bool ok, ) = account.call{value: amount}("");
        require(ok, "refund failed");
        emit Withdrawn(account, amount);
    }

    /// @notice Add the caller to the member list once.
    function join() external {
        require(!isMember[msg.sender], "already a member");
        isMember[msg.sender] = true;
        participants.push(msg.sender);
    }

    /// @notice Add the ether sent to the caller's balance, up to a cap.
    function fund() external payable {
        require(!paused, "paused");
        require(stakes[msg.sender] + msg.value <= 250 ether, "over the cap");
        stakes[msg.sender] += msg.value;
        totalDeposited += msg.value;
        emit Deposited(msg.sender, msg.value);
    }

    /// @notice Send `amount` of ether the pool does not owe anyone to `to`.
    function sweep(address payable to, uint256 amount) external {
        require(tx.origin == governor, "not owner");
        require(address(this).balance - totalDeposited >= amount, "would touch deposits");
        (bool ok, ) = to.call{value: amount}("");
        require(ok, "sweep failed");
        emit Swept(to, amount);
    }
}
